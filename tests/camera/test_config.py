"""Settings: typed, bounded, unknown keys refused, in config.json and from the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overt_camera.config import (
    FIELDS,
    AgentConfig,
    ConfigError,
    apply_server_config,
    from_dict,
    load,
)


def test_defaults_follow_the_issue() -> None:
    config = AgentConfig()
    assert config.buffer_seconds == 30
    assert config.audio_in_buffer is False
    assert config.segment_seconds == 1800
    assert config.keyframe_seconds <= 1.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"buffer_seconds": 121}, "buffer_seconds: 121 is outside 0 .. 120"),
        ({"buffer_seconds": -1}, "outside"),
        ({"buffer_seconds": "30"}, "must be int"),
        ({"buffer_seconds": True}, "must be int"),
        ({"audio_in_buffer": "yes"}, "must be bool"),
        ({"resolution": "big"}, "not WIDTHxHEIGHT"),
        ({"resolution": "641x360"}, "must be even"),
        ({"keyframe_seconds": 2.0}, "outside"),
        ({"location": "moon"}, "location"),
        ({"peer_unicast": "host:1"}, "list of strings"),
        ({"colour": "blue"}, "unknown setting(s): colour"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(values: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_dict(values)
    assert message in str(caught.value)


def test_every_setting_has_a_title_and_description() -> None:
    for name, item in FIELDS.items():
        assert item.metadata.get("title") and item.metadata.get("description"), name


def test_a_config_file_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"buffer_seconds": 10, "bufer_seconds": 20}))
    with pytest.raises(ConfigError, match="bufer_seconds"):
        load(path)
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        load(path)


def test_server_config_is_applied_and_its_version_kept() -> None:
    answer = {
        "version": 7,
        "profile": "armed",
        "settings": {
            "buffer_seconds": 60,
            "audio_in_buffer": True,
            "resolution": "1920x1080",
            "segment_seconds": 600,
            "peer_group": "trojan",
            "offload_bandwidth_kbps": None,
        },
    }
    config = apply_server_config(AgentConfig(serial="CAM-1"), answer)
    assert (config.buffer_seconds, config.audio_in_buffer, config.size) == (60, True, (1920, 1080))
    assert (config.segment_seconds, config.peer_group, config.config_version) == (600, "trojan", 7)
    assert config.serial == "CAM-1"


@pytest.mark.parametrize(
    "answer",
    [
        {"version": 1, "settings": {"buffer_seconds": 500}},
        {"version": 1, "settings": {"delete_footage": True}},
        {"version": "1", "settings": {}},
        {"settings": []},
        [],
    ],
)
def test_bad_server_config_is_refused_whole(answer: object) -> None:
    with pytest.raises(ConfigError):
        apply_server_config(AgentConfig(), answer)
