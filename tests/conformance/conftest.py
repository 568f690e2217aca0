
# The standard tests we run: what the gateway serves today (see the module docstring).
SELECTED = {
    "test_invoke", "test_ainvoke", "test_stream", "test_astream", "test_batch", "test_abatch",
    "test_conversation", "test_double_messages_conversation", "test_usage_metadata",
    "test_usage_metadata_streaming", "test_stop_sequence", "test_message_with_name",
    "test_invoke_with_model_override", "test_ainvoke_with_model_override",
    "test_stream_with_model_override", "test_astream_with_model_override",
}


def pytest_collection_modifyitems(config, items):
    keep = [i for i in items if "TestChorusThroughChatOpenAI" not in i.nodeid or i.originalname in SELECTED]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
