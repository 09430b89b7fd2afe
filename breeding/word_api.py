"""Words in a space, over the API: what a space knows (``GET /api/spaces/<slug>/words/``),
pictures started from a phrase (``POST`` there), and a gene from a word
(``POST /api/spaces/<slug>/genes/words/``). See ``breeding.words``."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from breeding import actions, budget, delivery, words
from breeding.delivery import PICTURES_PARAMETER
from breeding.lookups import usable
from breeding.models import Space
from breeding.serializers import GeneSerializer, WordGeneIn, WordsIn, serialize
from common.params import parse

READING = inline_serializer("PhraseReading", {
    "phrase": serializers.CharField(),
    "words": serializers.ListField(child=serializers.DictField(),
                                   help_text="The words the space knows: text, language, pictures, tightness."),
    "unknown": serializers.ListField(child=serializers.DictField(),
                                     help_text="Words it does not know, each with the closest it knows."),
    "notes": serializers.ListField(child=serializers.CharField(),
                                   help_text="A sentence for each unknown word."),
})


def space_or_404(slug: str) -> Space:
    space = Space.objects.filter(slug=slug).first()
    if space is None:
        raise NotFound(_("No space %(slug)s.") % {"slug": repr(slug)})
    return space


class SpaceWords(APIView):
    rate_limited = True  # the POST makes pictures (common.schema documents the 429)

    def get_permissions(self):
        # Anyone may ask what a space knows; starting pictures is for breeders.
        if self.request.method == "POST":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    @extend_schema(
        parameters=[OpenApiParameter("prefix", {"type": "string", "maxLength": 80}, required=False,
                                     description="Known words that start with this, most pictured first.")],
        responses=inline_serializer("SpaceWords", {
            "has_words": serializers.BooleanField(),
            "message": serializers.CharField(help_text="Why the space has no words; empty when it has."),
            "pictures": serializers.IntegerField(help_text="Labelled pictures its words come from."),
            "words": serializers.IntegerField(help_text="How many words it knows."),
            "suggestions": serializers.ListField(child=serializers.CharField()),
        }),
        operation_id="space_words",
    )
    def get(self, request, slug):
        space = space_or_404(slug)
        vocabulary = words.vocabulary_of(space)
        if vocabulary is None:
            return Response({"has_words": False, "message": words.no_words(space), "pictures": 0,
                             "words": 0, "suggestions": []})
        prefix = request.query_params.get("prefix", "")[:80]
        return Response({"has_words": True, "message": "", "pictures": vocabulary.pictures,
                         "words": vocabulary.words.count(),
                         "suggestions": words.suggestions(space, prefix) if prefix.strip() else []})

    @extend_schema(
        request=WordsIn, parameters=[PICTURES_PARAMETER], operation_id="space_words_create",
        responses={201: inline_serializer("FromWords", {
            "works": serializers.ListField(child=serializers.DictField()),
            "reading": READING}),
            (201, delivery.CONTENT_TYPE): OpenApiTypes.STR},
        description="Start from a phrase: `n` new works (drafts) that carry its words, made like "
                    "random ones with the phrase recorded as their origin. Words the space does "
                    "not know are named in `reading.notes`; a phrase with none it knows, an empty "
                    "or over-long one is refused (400) with a sentence.",
    )
    def post(self, request, slug):
        pictures = delivery.wanted_size(request)
        space = space_or_404(slug)
        data = parse(WordsIn, request)
        usable(space)
        words.understand(space, data["phrase"])  # refused before anything is charged
        budget.charge(request, budget.creations(data["n"], space.slug))
        made, reading = actions.do_words(request.user, space, data["phrase"], data["n"], data.get("seed"))
        body = serialize(made, request.user, True)
        if pictures is None:
            return Response({"works": body, "reading": reading.as_dict()}, status=status.HTTP_201_CREATED)
        return delivery.answer(body, made, pictures, status.HTTP_201_CREATED, request.user.pk,
                               extra={"reading": reading.as_dict()})


class WordGenes(APIView):
    # Renders pictures to check the word: charged to the breeder's budget as measured.
    permission_classes = [permissions.IsAuthenticated]
    rate_limited = True
    @extend_schema(
        request=WordGeneIn, operation_id="space_word_gene",
        responses={200: inline_serializer("WordGene", {"gene": GeneSerializer(),
                                                        "sign": serializers.IntegerField()})},
        description="A gene from a word the space knows (\"more cat\", \"less smile\"): found, or "
                    "made and validated now (it must move what it names more than any other word, "
                    "steadily and visibly). `sign` is -1 for \"less\". Refused (400) with the reason.",
    )
    def post(self, request, slug):
        space = space_or_404(slug)
        data = parse(WordGeneIn, request)
        usable(space)
        with budget.metered(request):
            gene, sign = words.word_gene(space, data["word"], request.user)
        return Response({"gene": GeneSerializer(gene).data, "sign": sign})


class WordGene(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, operation_id="space_word_gene_remove",
                   description="Take a gene made from a word out of the requester's Genes tab "
                               "(others who added it keep it).")
    def delete(self, request, slug, gene):
        space = space_or_404(slug)
        if not words.remove_word_gene(space, gene, request.user):
            raise NotFound(_("No gene %(slug)s among your genes from words.") % {"slug": repr(gene)})
        return Response(status=status.HTTP_204_NO_CONTENT)
