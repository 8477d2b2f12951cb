"""make_completion: the deterministic chat.completion body every emulated endpoint returns."""

import pytest

from aimodels.emulator.inference import count_tokens, make_completion


def test_completion_echoes_the_last_user_message():
    messages = [{"role": "system", "content": "be brief"},
                {"role": "user", "content": "hello  there"}]
    body = make_completion("gpt-4o", messages, 50)
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o"
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "refusal": None,
                                 "content": "[emulated gpt-4o] You said: hello there"}
    assert choice["finish_reason"] == "stop"


def test_usage_counts_whitespace_tokens():
    messages = [{"role": "system", "content": "a b c"}, {"role": "user", "content": "d e"}]
    body = make_completion("m", messages, 100)
    assert body["usage"]["prompt_tokens"] == 5
    reply = body["choices"][0]["message"]["content"]
    assert body["usage"]["completion_tokens"] == count_tokens(reply)
    assert body["usage"]["total_tokens"] == 5 + body["usage"]["completion_tokens"]


def test_max_tokens_truncates_with_finish_reason_length():
    body = make_completion("gpt-4o", [{"role": "user", "content": "one two three four five"}], 3)
    assert body["choices"][0]["message"]["content"] == "[emulated gpt-4o] You"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


def test_same_input_same_body_and_different_input_different_id():
    messages = [{"role": "user", "content": "hi"}]
    assert make_completion("gpt-4o", messages, 10) == make_completion("gpt-4o", messages, 10)
    other = [{"role": "user", "content": "ho"}]
    first = make_completion("gpt-4o", messages, 10)["id"]
    assert first != make_completion("gpt-4o", other, 10)["id"]
    assert make_completion("gpt-4o", messages, 10)["id"].startswith("chatcmpl-")


def test_content_parts_are_read_as_text():
    parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "x"}},
             {"type": "text", "text": "here"}]
    body = make_completion("gpt-4o", [{"role": "user", "content": parts}], None)
    assert body["choices"][0]["message"]["content"].endswith("You said: look here")
    assert body["usage"]["prompt_tokens"] == 2


def test_max_tokens_below_one_is_refused():
    with pytest.raises(ValueError):
        make_completion("gpt-4o", [{"role": "user", "content": "hi"}], 0)
