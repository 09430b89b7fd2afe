"""The Chinese catalogue is complete and honest, and no word a person sees escapes it.

Fails when a string in a template, a script or a sentence of the API is not marked for
translation; when the catalogue lacks a marked string (``make messages`` not run) or keeps
one no longer used; when a translation is missing or fuzzy; when a placeholder differs
between the English and the Chinese.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.core.management import call_command
from django.template.base import Lexer, TokenType

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
TEMPLATES = sorted((ROOT / "frontend" / "templates").rglob("*.html"))
SCRIPTS = sorted(p for p in (ROOT / "frontend" / "static" / "frontend" / "js").rglob("*.js"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")
#: Words that stay as they are in Chinese: the name, and tokens that are not words.
NOT_WORDS = {"Mendel", "WebP", "PNG", "JPEG", "MP4", "GIF", "API", "px", "ID", "Esc", "Enter", "WebM"}


def catalogue(domain: str):
    with (CATALOGUES / f"{domain}.po").open("rb") as source:
        return read_po(source, locale="zh_Hans")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_string_is_translated_and_none_is_fuzzy(domain):
    missing, fuzzy = [], []
    for message in catalogue(domain):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"{len(missing)} strings of {domain}.po have no Chinese, e.g. {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} strings of {domain}.po are fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_placeholders_are_the_same_in_both_languages(domain):
    wrong = []
    for message in catalogue(domain):
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # plural: Chinese has one form, for any count
            english = placeholders(message.id[0]) | placeholders(message.id[1])
            needed = placeholders(message.id[1])
            for string in message.string:
                if not needed <= placeholders(string) <= english:
                    wrong.append((message.id, string))
        elif placeholders(message.id) != placeholders(message.string):
            wrong.append((message.id, message.string))
    assert not wrong, f"placeholders differ: {wrong[:5]}"


def test_a_wrong_placeholder_or_a_missing_string_is_caught(tmp_path):
    """The two checks above can fail: a catalogue with a renamed placeholder, a fuzzy entry
    and an empty one trips each of them."""
    po = tmp_path / "bad.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "%(count)s works"\nmsgstr "%(number)s 件作品"\n\n'
                  '#, fuzzy\nmsgid "Breed"\nmsgstr "培育"\n\n'
                  'msgid "Cross"\nmsgstr ""\n', encoding="utf-8")
    with po.open("rb") as source:
        messages = [m for m in read_po(source) if m.id]
    assert placeholders(messages[0].id) != placeholders(messages[0].string)
    assert messages[1].fuzzy
    assert not messages[2].string


def test_the_catalogues_hold_exactly_the_marked_strings(tmp_path, settings, monkeypatch):
    """``makemessages`` on the sources finds the very strings the catalogues translate:
    nothing marked is left out, nothing unused is kept. It runs on links to the sources in a
    folder of its own, so it writes its catalogues there and never over locale/."""
    require(bool(shutil.which("xgettext")), "gettext's xgettext", "apt-get install gettext")
    sources, out = tmp_path / "sources", tmp_path / "locale"
    sources.mkdir()
    out.mkdir()
    for package in ("inference", "common", "breeding", "gallery", "frontend", "mendel"):
        (sources / package).symlink_to(ROOT / package, target_is_directory=True)
    settings.LOCALE_PATHS = [str(out)]
    monkeypatch.chdir(sources)
    for domain in DOMAINS:
        call_command("makemessages", locale=["zh_Hans"], domain=domain, symlinks=True,
                     ignore_patterns=["*/migrations/*"], verbosity=0)
    assert not list(CATALOGUES.parent.parent.glob("*/LC_MESSAGES/*.pot")), "makemessages left work in locale/"
    for domain in DOMAINS:
        with (out / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po").open("rb") as source:
            found = {(m.context, m.id) for m in read_po(source) if m.id}
        kept = {(m.context, m.id) for m in catalogue(domain) if m.id}
        assert found, f"makemessages found nothing for {domain}"
        assert not found - kept, (f"{domain}.po lacks {len(found - kept)} marked strings "
                                  f"(run `make messages`), e.g. {sorted(found - kept, key=str)[:5]}")
        assert not kept - found, (f"{domain}.po keeps {len(kept - found)} strings no longer "
                                  f"used, e.g. {sorted(kept - found, key=str)[:5]}")


# Visible text outside the catalogue --------------------------------------------------

TAG = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]*>", re.S)
VISIBLE_ATTRIBUTE = re.compile(r"\b(?:title|alt|aria-label|placeholder|aria-description)\s*=\s*\"([^\"]*)\"")
WORD = re.compile(r"[A-Za-z][A-Za-z]+(?:'[a-z]+)?")


def english_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if w not in NOT_WORDS]


def unmarked_in_template(source: str) -> list[str]:
    """English words a template shows outside ``translate``/``blocktranslate``: the template
    with every tag, variable and translated block replaced by a blank, then its HTML tags and
    comments removed, and the attributes people read (title, alt, aria-label, placeholder)."""
    kept, inside, blocks = [], 0, []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            words = token.contents.split() or [""]
            if words[0] in ("blocktranslate", "blocktrans"):
                inside += 1
            elif words[0] in ("endblocktranslate", "endblocktrans"):
                inside -= 1
            elif words[0] == "block":  # a block that fills an attribute: body_class
                blocks.append(words[-1].endswith("_class"))
                inside += blocks[-1]
            elif words[0] == "endblock" and blocks:
                inside -= blocks.pop()
        if token.token_type == TokenType.TEXT and not inside:
            kept.append(token.contents)
        elif token.token_type != TokenType.COMMENT:
            kept.append("\x00")
    text = "".join(kept)
    return english_words(" ".join(VISIBLE_ATTRIBUTE.findall(text))) + english_words(TAG.sub(" ", text))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_show_no_unmarked_words(template):
    words = unmarked_in_template(template.read_text(encoding="utf-8"))
    assert not words, f"{template.name} shows words not marked for translation: {words[:10]}"


def test_the_template_check_finds_an_unmarked_word():
    assert sorted(unmarked_in_template('<p>Make children</p><img alt="A picture">')) == \
        ["Make", "children", "picture"]
    assert unmarked_in_template('{% load i18n %}<p>{% translate "Make children" %}</p>') == []


def script_strings(source: str):
    """(string, code before it) for every string literal of a script, comments and regular
    expression literals skipped: a small scanner, enough for our own ES modules."""
    i, n, code = 0, len(source), []
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i) if "\n" in source[i:] else n
        elif source.startswith("/*", i):
            i = source.index("*/", i + 2) + 2
        elif c in "\"'`":
            j = i + 1
            while source[j] != c:
                j += 2 if source[j] == "\\" else 1
            yield source[i + 1:j], "".join(code[-60:])
            code.append(" ")
            i = j + 1
        elif c == "/" and re.search(r"(^|[(,=:\[!&|?{};]|return)\s*$", "".join(code[-20:])):
            j = i + 1
            while source[j] != "/" or source[j - 1] == "\\":  # a regular expression literal
                j += 1
            code.append(" ")
            i = j + 1
        else:
            code.append(c)
            i += 1


#: A string that reads as words: two words or more, or one capitalised word.
SENTENCE = re.compile(r"[A-Za-z]{2,}[ ,.!?…:][^\n]*[A-Za-z]{2,}|^[A-Z][a-z]+[.…!?]?$")
MARKED_CALL = re.compile(r"\b(?:gettext|ngettext|pgettext)\([^()]*$")
NOT_SPOKEN = re.compile(r"(querySelector(?:All)?|closest|matches|addEventListener|getAttribute|"
                        r"setAttribute|removeAttribute|toggleAttribute|dataset|classList\.\w+|"
                        r"type|kind|event|import|from|headers?\b.*|Accept|transform)\s*[(=:,]?\s*$")


def unmarked_in_script(source: str) -> list[str]:
    """Sentences a script writes that are not passed to gettext/ngettext/pgettext."""
    found = []
    for text, before in script_strings(source):
        text = re.sub(r"\$\{[^}]*\}", " ", text).strip()
        if not SENTENCE.search(text) or text.startswith(("(", "/", "data:")) or "://" in text:
            continue  # media queries, addresses
        if text.startswith("#version"):
            continue  # a WebGL shader's source
        if re.fullmatch(r"[\w.:#\[\]=\"'>*-]+(\s+[\w.:#\[\]=\"'>*-]+)*", text) and not re.search(r"[A-Z]", text):
            continue  # class lists, selectors, storage keys
        if re.search(r"([!=]==?|case)\s*$", before):
            continue  # compared, not shown: a key's name
        if MARKED_CALL.search(before) or NOT_SPOKEN.search(before):
            continue
        found.append(text)
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_show_no_unmarked_sentences(script):
    sentences = unmarked_in_script(script.read_text(encoding="utf-8"))
    assert not sentences, f"{script.name} writes sentences not marked for translation: {sentences[:8]}"


def test_the_script_check_finds_an_unmarked_sentence():
    assert unmarked_in_script('box.textContent = "Could not make children.";') == \
        ["Could not make children."]
    assert unmarked_in_script('box.textContent = gettext("Could not make children.");') == []
    assert unmarked_in_script('el.classList.add("tile is-new");') == []
    # A shader's source and a CSS transform are code, not words; a sentence beside them is.
    assert unmarked_in_script('const VS = `#version 300 es\nin vec2 a_pos; void main() {}`;') == []
    assert unmarked_in_script('el.style.transform = `translate(${x}px, ${y}px) scale(${s})`;') == []
    assert unmarked_in_script('tip.textContent = `Zoom in to see ${n} works`;') == ["Zoom in to see   works"]


# Sentences of the API and the sockets -------------------------------------------------

#: Calls whose string arguments a person reads: the API's errors, page messages.
SPOKEN_CALLS = {"ValidationError", "PermissionDenied", "NotFound", "ParseError", "Throttled",
                "NotAuthenticated", "error", "success", "info", "warning", "JsonResponse",
                "Response", "HttpResponseBadRequest", "fail", "refuse"}
PAGE_MESSAGES = {"error", "success", "info", "warning"}
PYTHON_DIRS = ("breeding", "gallery", "frontend", "mendel", "common")
MARKERS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext",
           "pgettext_lazy", "gettext_noop", "pgettext_noop"}


def unmarked_in_python(source: str) -> list[str]:
    tree = ast.parse(source)
    marked = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in MARKERS:
                marked.update(id(inner) for inner in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name not in SPOKEN_CALLS:
            continue
        owner = getattr(getattr(node.func, "value", None), "id", "")
        if name in PAGE_MESSAGES and owner != "messages":
            continue  # a logger's error(), not a message to a person
        for argument in [*node.args, *(k.value for k in node.keywords if k.arg in ("detail", "message"))]:
            for inner in ast.walk(argument):
                if id(inner) in marked:
                    continue
                if isinstance(inner, ast.Dict):
                    for key, value in zip(inner.keys, inner.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "error" and \
                                id(value) not in marked and _is_sentence(value):
                            found.append(ast.unparse(value))
                elif inner is argument and _is_sentence(inner):
                    found.append(ast.unparse(inner))
    return found


def _is_sentence(node) -> bool:
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    else:
        return False
    return bool(re.search(r"[A-Za-z]{2,} [a-z]{2,}", text))


PYTHON = sorted(p for d in PYTHON_DIRS for p in (ROOT / d).rglob("*.py")
                if "migrations" not in p.parts and "management" not in p.parts)


@pytest.mark.parametrize("module", PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_api_sentences_are_marked(module):
    sentences = unmarked_in_python(module.read_text(encoding="utf-8"))
    assert not sentences, f"{module.name} answers sentences not marked for translation: {sentences[:5]}"


def test_the_python_check_finds_an_unmarked_sentence():
    assert unmarked_in_python('raise ValidationError("The title is too long.")') == \
        ["'The title is too long.'"]
    assert unmarked_in_python('raise ValidationError(_("The title is too long."))') == []
    assert unmarked_in_python('JsonResponse({"error": f"No work {id} here."})') == \
        ["f'No work {id} here.'"]
