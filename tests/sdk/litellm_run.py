"""LiteLLM's SDK as a client of Chorus (in LiteLLM's own virtualenv), whole and streamed. Prints what
it got, as JSON.

    python litellm_run.py BASE_URL
"""

import json
import sys

import litellm

base_url = sys.argv[1]
ask = {
    "model": "openai/chorus",
    "api_base": base_url,
    "api_key": "unused",
    "messages": [{"role": "user", "content": "What is 15% of 240?"}],
}
whole = litellm.completion(**ask)
streamed = "".join(
    chunk.choices[0].delta.content or "" for chunk in litellm.completion(**ask, stream=True) if chunk.choices
)
print(
    json.dumps(
        {"whole": whole.choices[0].message.content, "finish": whole.choices[0].finish_reason, "streamed": streamed}
    )
)
