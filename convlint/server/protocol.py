"""The ``convlint server`` language server: pygls handlers over the open specs' analyses.

Diagnostics are published on open and, debounced by :data:`DEBOUNCE_SECONDS`, on change;
every request analyses the document's latest text first if it is not analysed yet, so answers
always match what the editor shows.
"""
from __future__ import annotations

import asyncio
from importlib.metadata import version
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from convlint.layers.registry import Registry
from convlint.server import features
from convlint.server.analysis_adapter import SpecFacts
from convlint.server.document import DocumentState

DEBOUNCE_SECONDS = 0.15
"""Quiet time after the last keystroke before a changed document is analysed and diagnosed."""


class SpecServer(LanguageServer):
    """A language server for convlint specs: one :class:`DocumentState` per open document."""

    def __init__(self, registry: Registry):
        super().__init__("convlint", version("convlint"))
        self.registry = registry
        self.documents: dict[str, DocumentState] = {}
        self.pending: dict[str, asyncio.Task] = {}

    def state(self, uri: str) -> DocumentState:
        """The document's state, created on first use."""
        if uri not in self.documents:
            state = self.documents[uri] = DocumentState(Path(to_fs_path(uri) or uri))
            if state.config_error:
                self.window_show_message(types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message=f"convlint: {state.config_error}; linting with the default configuration"))
        return self.documents[uri]

    def codec(self, uri: str) -> features.Codec:
        """Position conversion for the document's current text."""
        return features.Codec(self.workspace.position_codec, self.workspace.get_text_document(uri).lines)

    def refresh(self, uri: str) -> SpecFacts:
        """The analysis of the document's current text, made now unless that is done already."""
        text = self.workspace.get_text_document(uri).source
        state = self.state(uri)
        if state.current is not None and state.analysed(text):
            return state.current
        return state.update(text, self.registry)

    def publish(self, uri: str) -> None:
        """Analyse the document and publish its diagnostics."""
        facts = self.refresh(uri)
        document = self.workspace.get_text_document(uri)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=document.version, diagnostics=features.diagnostics(facts, self.codec(uri))))

    async def publish_later(self, uri: str) -> None:
        """Publish after :data:`DEBOUNCE_SECONDS` without further changes."""
        await asyncio.sleep(DEBOUNCE_SECONDS)
        self.publish(uri)

    def shown(self, uri: str) -> SpecFacts | None:
        """The analysis to show hints, hovers and completions from: the last one whose YAML parsed."""
        self.refresh(uri)
        return self.state(uri).good


def build_server(registry: Registry) -> SpecServer:
    """The server with every feature registered."""
    server = SpecServer(registry)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SpecServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SpecServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in ls.pending:
            ls.pending[uri].cancel()
        ls.pending[uri] = asyncio.ensure_future(ls.publish_later(uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SpecServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in ls.pending:
            ls.pending.pop(uri).cancel()
        ls.documents.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: SpecServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        facts = ls.shown(params.text_document.uri)
        if facts is None:
            return []
        return features.inlay_hints(facts, ls.codec(params.text_document.uri), params.range.start.line,
                                    params.range.end.line)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: SpecServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        facts = ls.shown(uri)
        if facts is None:
            return None
        codec = ls.codec(uri)
        return features.hover(facts, codec, *codec.from_client(params.position), ls.registry)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: SpecServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        facts = ls.refresh(uri)
        return features.code_actions(facts, ls.codec(uri), uri, params.range.start.line, params.range.end.line)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=[":", " ", "[", ",", "{"]))
    def completion(ls: SpecServer, params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        codec = ls.codec(uri)
        items = features.completions(ls.shown(uri), codec, *codec.from_client(params.position), ls.registry)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: SpecServer, params: types.DefinitionParams) -> types.Location | None:
        uri = params.text_document.uri
        facts = ls.shown(uri)
        if facts is None:
            return None
        codec = ls.codec(uri)
        return features.definition(facts, codec, uri, *codec.from_client(params.position),
                                   ls.workspace.get_text_document(uri).source)

    return server
