"""Collections: named knowledge bases, each with its own documents, index and background jobs.

- ``registry``: ``CollectionRegistry`` (create, list, delete; ``default`` is the seeds folder) and
  ``Collection`` (library, service, ingest worker, index loader, re-indexer); models are shared.
- ``library``: a collection's files (hand-placed folder, uploads folder), listing and statuses.
- ``trash``: deleted uploads kept ``QA_TRASH_DAYS``, hand-placed files only hidden; restorable.
- ``worker``: the coalescing background ingest and the folder watcher.
- ``jobs``: the one-shot jobs (index loader, re-index) and ``run_logged``.
- ``access``: API keys with roles (reader, editor, admin) and the collections each may read.

Nothing is imported here, so ``qa.service`` can use ``library`` without an import circle.
"""
