from __future__ import annotations

from services.core.errors import Conflict, Forbidden, NotFound, Unprocessable


class ConversationNotFound(NotFound):
    code = "conversation_not_found"

    def __init__(self) -> None:
        super().__init__("no such conversation, or it is not yours to see")


class MessageNotFound(NotFound):
    code = "message_not_found"

    def __init__(self) -> None:
        super().__init__("no such message, or it is not yours to see")


class NotYourMessage(Forbidden):
    code = "not_your_message"

    def __init__(self) -> None:
        super().__init__("only the author of a message can edit or delete it")


class MessageDeleted(Conflict):
    code = "message_deleted"

    def __init__(self) -> None:
        super().__init__("the message was deleted and cannot change")


class ChatDisabled(Forbidden):
    code = "chat_disabled"

    def __init__(self) -> None:
        super().__init__("the chat module is not active for this client")


class ClientArchived(Conflict):
    code = "client_archived"

    def __init__(self) -> None:
        super().__init__("the client is archived: its conversations are read-only")


class InvalidMessage(Unprocessable):
    code = "invalid_message"
