"""The gene discovery job stores validated genes; start-up defers it only when needed."""

from __future__ import annotations

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from breeding import tasks
from breeding.genes import DISCOVERY_VERSION
from breeding.models import Gene

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_jobs_queued")]


def test_the_job_stores_validated_genes_for_the_current_weights(space):
    count = tasks.discover_genes(space.slug, samples=128, held_out=6)
    genes = list(Gene.objects.filter(space=space))
    assert count == len(genes) >= 4
    assert {g.version for g in genes} == {space.version}
    assert {g.discovery for g in genes} == {DISCOVERY_VERSION}
    assert "brightness" in {g.slug for g in genes}
    assert all(g.rho >= 0.8 and g.low < 0 < g.high and len(g.direction) == 512 for g in genes)
    # Idempotent: running again replaces, never duplicates.
    assert tasks.discover_genes(space.slug, samples=128, held_out=6) == count
    assert Gene.objects.filter(space=space).count() == count


def test_start_up_defers_discovery_once_and_not_when_genes_exist(space, warm_gene):
    Gene.objects.all().delete()
    tasks.ensure_genes()
    tasks.ensure_genes()  # the queueing lock keeps it to one job per space
    jobs = ProcrastinateJob.objects.filter(task_name="breeding.tasks.discover_genes")
    assert sorted(job.args["space_slug"] for job in jobs) == ["abstract", "emoji", "figures"]
    jobs.delete()
    warm_gene.pk = None
    warm_gene.save()
    tasks.ensure_genes()
    assert sorted(job.args["space_slug"] for job in ProcrastinateJob.objects.filter(
        task_name="breeding.tasks.discover_genes")) == ["emoji", "figures"]


def test_start_up_finds_genes_again_when_the_discovery_method_changed(space, warm_gene):
    Gene.objects.filter(pk=warm_gene.pk).update(discovery=DISCOVERY_VERSION - 1)
    tasks.ensure_genes()
    jobs = ProcrastinateJob.objects.filter(task_name="breeding.tasks.discover_genes")
    assert [job.args for job in jobs.filter(args__space_slug="abstract")] == [{"space_slug": "abstract"}]


def test_a_stopping_worker_interrupts_discovery(space):
    tasks.STOPPING.set()
    try:
        with pytest.raises(tasks.Interrupted):
            tasks.discover_genes(space.slug, samples=64, held_out=4)
    finally:
        tasks.STOPPING.clear()
    assert not Gene.objects.filter(space=space).exists()
