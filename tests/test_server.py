"""`convlint server` end to end: a real LSP client (pytest-lsp) talks to the server over stdio.

Expected values come from `convlint lint --format json` and `convlint summary --format json` run
on the same files, and from the loaded layer types, never from the server's own code.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from convlint.api import default_registry, load_text
from convlint.api import lint as api_lint
from convlint.spec.yaml_source import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS, RULE_FIXTURES = ROOT / "specs", ROOT / "tests" / "fixtures" / "rules"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "convlint", "server"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def cli_json(*args: str, cwd: Path | None = None):
    done = subprocess.run([sys.executable, "-m", "convlint", *args, "--format", "json"], capture_output=True,
                          text=True, timeout=120, cwd=cwd)
    return json.loads(done.stdout)


async def opened(client: LanguageClient, path: Path, text: str | None = None) -> str:
    """Open ``path`` (with ``text`` instead of its content, if given); return its URI once diagnosed."""
    uri = path.as_uri()
    text = path.read_text() if text is None else text
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
    await diagnosed(client, uri)
    return uri


async def diagnosed(client: LanguageClient, uri: str) -> None:
    """Wait (at most 30 s) for diagnostics of ``uri`` to arrive after they were cleared by the caller."""
    for _ in range(3000):
        if uri in client.diagnostics:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"no diagnostics for {uri}")


async def changed(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    await diagnosed(client, uri)


async def closed(client: LanguageClient, uri: str) -> None:
    client.diagnostics.pop(uri, None)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await diagnosed(client, uri)
    assert list(client.diagnostics[uri]) == []


def layer_lines(text: str) -> dict[str, int]:
    """Layer name → 0-based line of its mapping, read from the YAML independently of the server."""
    return {layer["name"]: layer.line - 1 for layer in load_yaml(text).data["layers"]}


async def hints_of(client: LanguageClient, uri: str, text: str) -> dict[int, str]:
    lines = text.splitlines()
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0),
                          end=types.Position(line=len(lines), character=0))))
    return {hint.position.line: hint.label for hint in hints}


async def hover_at(client: LanguageClient, uri: str, line: int, character: int) -> str:
    answer = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    return answer.contents.value if answer is not None else ""


async def test_diagnostics_are_the_findings_of_lint(client: LanguageClient):
    for name in ("S001", "Y007", "S007", "S008"):
        path = RULE_FIXTURES / f"{name}.yaml"
        uri = await opened(client, path)
        expected = cli_json("lint", str(path))
        got = client.diagnostics[uri]
        assert [(d.code, d.range.start.line + 1, d.range.start.character + 1) for d in got] == \
               [(f["code"], f["line"], f["column"]) for f in expected]
        assert all(d.message.startswith(f["message"]) for d, f in zip(got, expected))
        assert all(d.code_description.href.endswith("#" + d.code.lower()) for d in got)
        await closed(client, uri)


async def test_inlay_hints_show_the_summary_shapes_and_params(client: LanguageClient):
    path = SPECS / "unet.yaml"
    text = path.read_text()
    uri = await opened(client, path)
    assert list(client.diagnostics[uri]) == []
    hints = await hints_of(client, uri, text)
    lines = layer_lines(text)
    rows = cli_json("summary", str(path))[0]["layers"]
    assert len(hints) == len(rows) == len(lines)
    for row in rows:
        label = hints[lines[row["name"]]]
        assert label.startswith("→ " + "×".join(map(str, row["output_shape"])))
        assert (f"{row['params']:,} params" in label) == (row["params"] > 0)
    await closed(client, uri)


async def test_hover_on_a_layer_and_on_a_keyword(client: LanguageClient):
    path = SPECS / "lenet5.yaml"
    text = path.read_text()
    uri = await opened(client, path)
    row = next(row for row in cli_json("summary", str(path))[0]["layers"] if row["name"] == "c3")
    line = layer_lines(text)["c3"]
    layer_hover = await hover_at(client, uri, line, text.splitlines()[line].index("c3"))
    assert f"{row['params']:,}" in layer_hover and f"{row['macs']:,}" in layer_hover
    assert "receptive field: " + "×".join(map(str, row["receptive_field"])) in layer_hover
    assert "H: 14 → 10" in layer_hover and "W: 14 → 10" in layer_hover
    keyword = text.splitlines()[line].index("kernel_size")
    keyword_hover = await hover_at(client, uri, line, keyword + 2)
    assert default_registry().types["Conv2d"].keywords["kernel_size"].doc in keyword_hover
    await closed(client, uri)


async def test_named_sizes_give_symbolic_hints(client: LanguageClient):
    text = (SPECS / "lenet5.yaml").read_text().replace("image: [1, 1, 32, 32]", "image: [N, 1, H, W]")
    path = ROOT / "tests" / "named_lenet.yaml"
    uri = await opened(client, path, text)
    hints = await hints_of(client, uri, text)
    from convlint.api import summarize
    rows = summarize(load_text(text, str(path)))["layers"]
    for row in rows:
        shown = "?" if row["output_shape"] is None else "×".join(map(str, row["output_shape"]))
        assert hints[layer_lines(text)[row["name"]]].startswith("→ " + shown)
    assert any("H" in label for label in hints.values())
    await closed(client, uri)


async def apply_first(client: LanguageClient, uri: str, text: str, code: str, title_part: str) -> str:
    diagnostic = next(d for d in client.diagnostics[uri] if d.code == code)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))
    action = next(action for action in actions if title_part in action.title)
    (edit,) = action.edit.changes[uri]
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[:edit.range.start.line]) + edit.range.start.character
    end = sum(len(line) for line in lines[:edit.range.end.line]) + edit.range.end.character
    return text[:start] + edit.new_text + text[end:]


@pytest.mark.parametrize("code", ["S001", "Y007", "S007", "S004", "S005", "S008", "Y006"])
async def test_a_code_action_applies_the_fix(client: LanguageClient, code: str):
    path = RULE_FIXTURES / f"{code}.yaml"
    text = path.read_text()
    uri = await opened(client, path)
    fixed = await apply_first(client, uri, text, code, {"Y007": "Use type", "Y006": "Rename"}.get(code, "Set"))
    await changed(client, uri, fixed, 2)
    assert code not in [d.code for d in client.diagnostics[uri]]
    assert code not in [f.code for f in api_lint(load_text(fixed))]
    assert code in [f.code for f in api_lint(load_text(text))]
    await closed(client, uri)


async def test_the_noqa_action_silences_the_finding(client: LanguageClient):
    path = RULE_FIXTURES / "S001.yaml"
    text = path.read_text()
    uri = await opened(client, path)
    suppressed = await apply_first(client, uri, text, "S001", "noqa")
    await changed(client, uri, suppressed, 2)
    assert list(client.diagnostics[uri]) == []
    assert "# convlint: noqa: S001" in suppressed
    await closed(client, uri)


async def test_a_broken_line_keeps_the_last_good_analysis(client: LanguageClient):
    path = SPECS / "lenet5.yaml"
    text = path.read_text()
    uri = await opened(client, path)
    good = await hints_of(client, uri, text)
    broken = text.replace("  - {name: f5, type: Linear, out_features: 120}", "  - {name: f5, type: Lin")
    await changed(client, uri, broken, 2)
    assert [d.code for d in client.diagnostics[uri]] == ["Y001"]
    assert await hints_of(client, uri, broken) == good
    line = layer_lines(text)["c1"]
    assert "c1" in await hover_at(client, uri, line, text.splitlines()[line].index("c1"))
    await changed(client, uri, "", 3)
    await changed(client, uri, text, 4)
    assert list(client.diagnostics[uri]) == []
    await closed(client, uri)


async def completion_labels(client: LanguageClient, uri: str, line: int, character: int) -> list[str]:
    answer = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    return [item.label for item in answer.items]


async def test_completion_of_types_keywords_and_layer_names(client: LanguageClient):
    path = SPECS / "lenet5.yaml"
    text = path.read_text() + "  - {name: extra, type: Conv2d, from: \n"  # being typed: not YAML yet
    uri = await opened(client, path)
    await changed(client, uri, text, 2)
    line = len(text.splitlines()) - 1
    current = text.splitlines()[line]
    names = await completion_labels(client, uri, line, len(current))
    assert set(layer_lines(path.read_text())) <= set(names)
    types_offered = await completion_labels(client, uri, line, current.index("Conv2d"))
    assert set(default_registry().types) <= set(types_offered)
    keywords = await completion_labels(client, uri, line, current.index("from"))
    assert set(default_registry().types["Conv2d"].keywords) <= set(keywords)
    await closed(client, uri)


async def test_go_to_definition_of_a_layer_and_a_block(client: LanguageClient):
    path = SPECS / "unet.yaml"
    text = path.read_text()
    uri = await opened(client, path)
    line = next(number for number, content in enumerate(text.splitlines()) if "from: [up3, enc3]" in content)
    column = text.splitlines()[line].index("enc3]")
    location = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=column)))
    assert location.range.start.line == layer_lines(text)["enc3"]
    await closed(client, uri)
    block_spec = next(path for path in sorted(SPECS.glob("*.yaml")) if "\nblocks:" in path.read_text())
    text = block_spec.read_text()
    data = load_yaml(text).data
    block = next(iter(data["blocks"]))
    use = next(layer for layer in data["layers"] if layer.get("type") == block)
    uri = await opened(client, block_spec)
    use_line = use.position_of("type")[0] - 1
    location = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=use_line, character=text.splitlines()[use_line].index(block, use.position_of("type")[1]))))
    assert location.range.start.line == data["blocks"].position_of(block)[0] - 1
    await closed(client, uri)



async def test_typing_a_layer_character_by_character(client: LanguageClient):
    path = SPECS / "lenet5.yaml"
    text = path.read_text()
    uri = await opened(client, path)
    typed = "  - {name: f7, type: Linear, from: out, in_features: 10, out_features: 3}\n"
    cut = text.index("outputs:")  # the new layer goes after the last one
    for version, end in enumerate(range(0, len(typed) + 1, 6), start=2):
        partial = text[:cut] + typed[:end] + text[cut:]
        await changed(client, uri, partial, version)
        assert len(await hints_of(client, uri, partial)) >= len(layer_lines(text))
    final = text[:cut] + typed + text[cut:]
    await changed(client, uri, final, 100)
    assert [d.code for d in client.diagnostics[uri]] == [f.code for f in api_lint(load_text(final))]
    line = next(number for number, content in enumerate(final.splitlines()) if "name: f7" in content)
    import torch
    params = sum(parameter.numel() for parameter in torch.nn.Linear(10, 3).parameters())
    assert (await hints_of(client, uri, final))[line] == f"→ 1×3 · {params:,} params"
    await closed(client, uri)


async def test_diagnostics_follow_the_project_configuration(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\nignore = ["S001"]\n')
    path = tmp_path / "spec.yaml"
    path.write_text((RULE_FIXTURES / "S001.yaml").read_text())
    uri = await opened(client, path)
    assert [d.code for d in client.diagnostics[uri]] == [f["code"] for f in cli_json("lint", str(path), cwd=tmp_path)]
    assert "S001" in [f["code"] for f in cli_json("lint", str(RULE_FIXTURES / "S001.yaml"))]
    await closed(client, uri)
