"""One error hierarchy for the whole library.

    QAError                      500 internal_error
    ├── ConfigurationError       500 configuration_error
    │   ├── ModelNotFoundError   500 model_not_found
    │   └── UnsafeExposureError  500 unsafe_exposure
    ├── InvalidQuestionError     422 invalid_question
    ├── NoDocumentsError         400 no_documents
    ├── InvalidTestSetError      400 invalid_test_set
    ├── DocumentNotFoundError    404 document_not_found
    ├── CollectionNotFoundError  404 collection_not_found
    ├── AnswerNotFoundError      404 answer_not_found
    ├── ConflictError            409 conflict
    │   ├── LastDocumentError    409 last_document
    │   ├── TrashConflictError   409 trash_conflict
    │   └── CollectionExistsError  409 collection_exists
    ├── ForbiddenError           403 forbidden
    │   ├── CollectionForbiddenError  403 collection_forbidden
    │   ├── RoleForbiddenError   403 role_forbidden
    │   └── UploadsDisabledError  403 uploads_disabled
    ├── InvalidCollectionNameError  422 invalid_collection_name
    ├── UploadError              422 invalid_filename
    │   ├── UploadTooLargeError  413 file_too_large
    │   └── UnsupportedFileTypeError  415 unsupported_file_type
    ├── IndexNotReadyError       503 index_not_ready
    │   └── IndexBuildingError   503 index_building
    ├── IndexCorruptError        500 index_corrupt
    ├── IndexMismatchError       409 index_mismatch
    │   └── IndexFormatError     409 index_mismatch (an older seed-qa's format; serving rebuilds it)
    ├── SessionError             404 session_not_found
    │   └── SessionStoreUnavailableError  503 session_store_unavailable
    └── ServerUnavailableError   503 server_unavailable

Every class carries an HTTP status and a stable machine-readable ``code``; front ends turn
them into ``{"error": {"code", "message"}}`` (HTTP) or a one-line message and exit code (CLI).
Messages say how to fix the problem.
"""

from __future__ import annotations


class QAError(Exception):
    """Base of every error the library raises on purpose."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(QAError):
    """A setting is missing or has an unusable value."""

    code = "configuration_error"


class ModelNotFoundError(ConfigurationError):
    """The embedding (or reader) model is not available offline."""

    code = "model_not_found"


class UnsafeExposureError(ConfigurationError):
    """The server would be reachable beyond loopback without API keys, or with guessable keys."""

    code = "unsafe_exposure"


class InvalidQuestionError(QAError):
    """The question is empty, too long, or contains control characters."""

    status_code = 422
    code = "invalid_question"


class NoDocumentsError(QAError):
    """The seeds folder holds no loadable documents."""

    status_code = 400
    code = "no_documents"


class InvalidTestSetError(QAError):
    """A test-set or report file for `qa eval` is missing or malformed."""

    status_code = 400
    code = "invalid_test_set"


class DocumentNotFoundError(QAError):
    """No indexed document has the requested id."""

    status_code = 404
    code = "document_not_found"


class IndexNotReadyError(QAError):
    """There is no index on disk yet."""

    status_code = 503
    code = "index_not_ready"


class IndexBuildingError(IndexNotReadyError):
    """The index is being built and cannot answer yet."""

    code = "index_building"


class IndexCorruptError(QAError):
    """Index files are unreadable or do not match their recorded checksums."""

    code = "index_corrupt"


class IndexMismatchError(QAError):
    """The index was built with another model or chunking configuration."""

    status_code = 409
    code = "index_mismatch"


class IndexFormatError(IndexMismatchError):
    """The index was written by an older seed-qa in a format this one does not read."""


class SessionError(QAError):
    """A chat session id is unknown or expired."""

    status_code = 404
    code = "session_not_found"


class SessionStoreUnavailableError(SessionError):
    """The shared session store cannot be reached."""

    status_code = 503
    code = "session_store_unavailable"


class UploadError(QAError):
    """An uploaded file's name is empty, hidden, too long or a path (``../x``, ``a/b``)."""

    status_code = 422
    code = "invalid_filename"


class UploadTooLargeError(UploadError):
    """An uploaded file (or the whole upload) is over the configured size limit."""

    status_code = 413
    code = "file_too_large"


class UnsupportedFileTypeError(UploadError):
    """An uploaded file's type is not one the loader reads (or not allowed by the settings)."""

    status_code = 415
    code = "unsupported_file_type"


class ServerUnavailableError(QAError):
    """No seed-qa server answered where ``qa ask --server`` pointed (the CLI then answers in-process)."""

    status_code = 503
    code = "server_unavailable"


class CollectionNotFoundError(QAError):
    """No collection has the requested name."""

    status_code = 404
    code = "collection_not_found"


class AnswerNotFoundError(QAError):
    """No recorded answer has the requested id (or the caller may not see it)."""

    status_code = 404
    code = "answer_not_found"


class ConflictError(QAError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"


class LastDocumentError(ConflictError):
    """Deleting the only document would empty the index."""

    code = "last_document"


class TrashConflictError(ConflictError):
    """A file of the restored document's name exists again."""

    code = "trash_conflict"


class CollectionExistsError(ConflictError):
    """A collection of that name exists already (or is the default)."""

    code = "collection_exists"


class ForbiddenError(QAError):
    """The API key may not do this."""

    status_code = 403
    code = "forbidden"


class CollectionForbiddenError(ForbiddenError):
    """The API key may not read this collection."""

    code = "collection_forbidden"


class RoleForbiddenError(ForbiddenError):
    """The API key's role is too low (a reader uploading, an editor managing collections)."""

    code = "role_forbidden"


class UploadsDisabledError(ForbiddenError):
    """Uploads are turned off for everyone (QA_UPLOADS=off)."""

    code = "uploads_disabled"


class InvalidCollectionNameError(QAError):
    """A collection name that is not lowercase letters, digits and dashes."""

    status_code = 422
    code = "invalid_collection_name"
