"""The sans-I/O HTTP/1.1 parser under both pools: answers fed as bytes, in any chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydantic_dynamo.transport.http_parser import (
    AnswerParser,
    HttpAnswer,
    MalformedAnswerError,
    connect_request,
    request_bytes,
    tunnel_refusal,
)

BODY = b'{"Item":{"k":{"S":"' + b"x" * 300 + b'"}}}'

# (answer bytes, status, content, reusable): every framing the parser knows.
ANSWERS = {
    "length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY,
        200,
        BODY,
        True,
    ),
    "chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;ext=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n',
        200,
        b'{"a":1}',
        True,
    ),
    "informational-first": (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad\r\nContent-Length: 2\r\n\r\n{}",
        400,
        b"{}",
        True,
    ),
    "bodiless": (b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 204, b"", True),
    "connection-close": (
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\n{}",
        200,
        b"{}",
        False,
    ),
    "http-1.0": (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", 200, b"{}", False),
}
# Answers that end only with the connection: fed, then closed.
TO_CLOSE = {
    "no-length": (b"HTTP/1.0 500 Oops\r\nDate: x\r\n\r\nnot json", 500, b"not json"),
    "other-coding": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}", 200, b"{}"),
}
MALFORMED = {
    "status": b"garbage\r\n\r\n",
    "status-code": b"HTTP/1.1 2x0 OK\r\n\r\n",
    "header": b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "negative-length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "huge-length": b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n",
    "non-ascii-length": "HTTP/1.1 200 OK\r\nContent-Length: \u00b2\r\n\r\n".encode(),
    "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "signed-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n",
    "underscored-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n",
    "chunk-without-crlf": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}xx",
    "head-too-long": b"HTTP/1.1 200 OK\r\nX: " + b"y" * (70 * 1024),
}
# Cut short by the connection's close.
TRUNCATED = {
    "empty": b"",
    "inside-the-head": b"HTTP/1.1 200 OK\r\nContent-Le",
    "inside-the-body": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    "inside-the-chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
}


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, repeats allowed)."""
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def parse(pieces: list[bytes], *, eof: bool = False) -> AnswerParser:
    parser = AnswerParser()
    for piece in pieces:
        parser.feed(piece)
    if eof:
        parser.feed_eof()
    return parser


cuts = st.lists(st.integers(min_value=0, max_value=600), max_size=40)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(ANSWERS)), cuts=cuts)
def test_every_chunking_of_an_answer_reads_the_same_answer(name: str, cuts: list[int]) -> None:
    data, status, content, reusable = ANSWERS[name]
    parser = parse(split(data, cuts))
    assert parser.complete
    assert parser.answer() == HttpAnswer(status, parser.headers, content)
    assert parser.reusable is reusable


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(sorted(TO_CLOSE)), cuts=cuts)
def test_an_answer_without_a_length_ends_with_the_connection(name: str, cuts: list[int]) -> None:
    data, status, content = TO_CLOSE[name]
    parser = parse(split(data, cuts))
    assert not parser.complete
    parser.feed_eof()
    assert (parser.answer().status_code, parser.answer().content) == (status, content)
    assert not parser.reusable


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(MALFORMED)), cuts=cuts)
def test_malformed_bytes_raise_in_any_chunking(name: str, cuts: list[int]) -> None:
    with pytest.raises(MalformedAnswerError):
        parse(split(MALFORMED[name], cuts), eof=True)


@pytest.mark.parametrize("data", TRUNCATED.values(), ids=TRUNCATED.keys())
def test_an_answer_cut_short_by_the_close_raises(data: bytes) -> None:
    with pytest.raises(MalformedAnswerError, match="closed inside the answer"):
        parse([data], eof=True)


@pytest.mark.parametrize(
    "extra",
    [b"HTTP/1.1 200 OK\r\n", b"x"],
    ids=["a-forged-answer", "one-byte"],
)
@pytest.mark.parametrize("name", ["length", "chunked", "bodiless"])
def test_bytes_past_an_answer_leave_it_whole_but_the_connection_unusable(
    name: str, extra: bytes
) -> None:
    data, _, content, _ = ANSWERS[name]
    together = parse([data + extra])
    after = parse([data, extra])
    for parser in (together, after):
        assert parser.answer().content == content
        assert parser.leftover == extra
        assert not parser.reusable


def test_a_body_of_known_length_is_never_read_past() -> None:
    parser = AnswerParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    assert parser.read_size() == 3
    parser.feed(b"cde")
    assert parser.complete
    assert parser.answer().content == b"abcde"


def test_a_repeated_header_keeps_the_last_value_and_names_are_lower_cased() -> None:
    parser = parse([b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a:  2 \r\nContent-Length: 0\r\n\r\n"])
    assert parser.answer().headers == {"x-a": "2", "content-length": "0"}


def test_the_eof_after_a_complete_answer_only_makes_it_unusable() -> None:
    parser = parse([ANSWERS["length"][0]], eof=True)
    assert parser.answer().content == BODY
    assert not parser.reusable


def test_an_incomplete_answer_is_not_handed_out() -> None:
    with pytest.raises(RuntimeError):
        AnswerParser().answer()


def test_a_proxy_tunnel_opens_on_a_2xx_head_with_nothing_after_it() -> None:
    opened = AnswerParser(head_only=True)
    opened.feed(b"HTTP/1.1 200 Connection established\r\n\r\n")
    assert opened.complete
    assert tunnel_refusal(opened) is None
    refused = AnswerParser(head_only=True)
    refused.feed(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
    assert tunnel_refusal(refused) == (
        "the proxy refused the tunnel: HTTP/1.1 407 Proxy Authentication Required"
    )
    early = AnswerParser(head_only=True)
    early.feed(b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK")
    assert tunnel_refusal(early) is not None


def test_requests_are_written_whole_and_refuse_header_injection() -> None:
    assert request_bytes({"Host": "h", "X-Amz-Target": "T"}, b'{"a":1}') == (
        b'POST / HTTP/1.1\r\nHost: h\r\nX-Amz-Target: T\r\nContent-Length: 7\r\n\r\n{"a":1}'
    )
    for value in ("a\r\nInjected: 1", "a\nb", "a\rb"):
        with pytest.raises(ValueError, match="CR or LF"):
            request_bytes({"X-Amz-Security-Token": value}, b"{}")
    assert connect_request("proxy.test", 443, "Basic abc") == (
        b"CONNECT proxy.test:443 HTTP/1.1\r\nHost: proxy.test:443\r\n"
        b"Proxy-Authorization: Basic abc\r\n\r\n"
    )
