"""The training page (staff only): train a space from a folder on the server, and watch
trainings go (pictures shown, losses, the latest sample grid, time left), or cancel one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from breeding import training
from breeding.models import Training
from common.errors import Refused


class TrainingForm(forms.Form):
    folder = forms.CharField(max_length=500, label=gettext_lazy("Folder of pictures on the server"))
    slug = forms.SlugField(max_length=40, label=gettext_lazy("Slug of the new space"))
    title = forms.CharField(max_length=120, required=False, label=gettext_lazy("Title"))
    resolution = forms.TypedChoiceField(coerce=int, choices=[(r, f"{r} px") for r in training.RESOLUTIONS],
                                        label=gettext_lazy("Resolution"))
    pictures = forms.IntegerField(min_value=1000, max_value=training.MAX_PICTURES, initial=2_000_000,
                                  label=gettext_lazy("Pictures to show"))
    seed = forms.IntegerField(min_value=0, max_value=2**63 - 1, initial=0, label=gettext_lazy("Seed"))


def _staff(request) -> None:
    """Staff only; for anyone else signed in the page does not exist."""
    if not request.user.is_staff:
        raise Http404(_("There is no page here."))


def trainings(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _trainings(request)


def state(job: Training) -> dict:
    """What the page shows of one training (and polls for)."""
    return {**job.event(), "status_label": job.get_status_display(), "created": job.created.isoformat(),
            "pictures_read": job.pictures_read, "skipped": job.skipped[:200],
            "skipped_count": len(job.skipped), "pictures_per_s": job.pictures_per_s,
            "samples_at": job.samples_at, "checkpoint_at": job.checkpoint_at,
            "resolution": job.resolution, "seed": job.seed, "title": job.title,
            "space": job.space.slug if job.space_id else None,
            "running": job.status in job.unfinished()}


def _trainings(request):
    _staff(request)
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = training.ask(request.user, data["folder"], data["slug"], data["title"],
                               data["resolution"], data["pictures"], data["seed"])
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Training %(id)s is asked for: it starts when a worker is free.")
                             % {"id": job.public_id})
            return redirect("frontend:trainings")
    jobs = [state(j) for j in Training.objects.select_related("space")[:50]]
    return render(request, "frontend/training.html", {"form": form, "jobs": jobs},
                  status=400 if form.errors else 200)


def training_state(request, public_id):
    _staff(request)
    job = Training.objects.select_related("space").filter(public_id=public_id).first()
    if job is None:
        raise Http404(_("There is no training with that id."))
    return JsonResponse(state(job))


def training_samples(request, public_id):
    _staff(request)
    job = Training.objects.filter(public_id=public_id).first()
    path = training.samples_of(job) if job is not None else None
    if path is None or not path.is_file():
        raise Http404(_("This training has no sample grid yet."))
    response = FileResponse(open(path, "rb"), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def training_cancel(request, public_id):
    _staff(request)
    job = Training.objects.filter(public_id=public_id).first()
    if job is None:
        raise Http404(_("There is no training with that id."))
    if job.cancel():
        messages.success(request, _("Training %(id)s is cancelled.") % {"id": job.public_id})
    else:
        messages.info(request, _("Training %(id)s had already ended.") % {"id": job.public_id})
    return redirect("frontend:trainings")
