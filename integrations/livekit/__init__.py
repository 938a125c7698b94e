"""OpenVidu 3 through the LiveKit server API: the client (rooms, tokens, recordings, agent, webhooks) and
the models it returns."""

from integrations.livekit.client import (
    DEFAULT_TOKEN_TTL,
    MAX_TOKEN_TTL,
    VENDOR,
    LiveKitClient,
    ParticipantRole,
    map_twirp_error,
)
from integrations.livekit.models import (
    EVENT_TYPES,
    AgentDispatchInfo,
    EgressEnded,
    EgressInfo,
    EgressStarted,
    EgressUpdated,
    LiveKitEvent,
    ParticipantInfo,
    ParticipantJoined,
    ParticipantLeft,
    RecordingFile,
    RoomFinished,
    RoomInfo,
    RoomStarted,
    S3Storage,
    event_from_proto,
)

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "EVENT_TYPES",
    "MAX_TOKEN_TTL",
    "VENDOR",
    "AgentDispatchInfo",
    "EgressEnded",
    "EgressInfo",
    "EgressStarted",
    "EgressUpdated",
    "LiveKitClient",
    "LiveKitEvent",
    "ParticipantInfo",
    "ParticipantJoined",
    "ParticipantLeft",
    "ParticipantRole",
    "RecordingFile",
    "RoomFinished",
    "RoomInfo",
    "RoomStarted",
    "S3Storage",
    "event_from_proto",
    "map_twirp_error",
]
