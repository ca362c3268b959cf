"""Feedback that becomes a test set, and what the documents do not answer.

- ``log``: ``AnswerLog``, every answer kept whole (who, collection, session, index generation,
  cited files' hashes) and the votes on it; chat history is read from it too.
- ``export``: ``qa feedback export``, votes turned into a ``qa eval`` test set.
- ``gaps``: abstained and down-voted questions per collection, near-duplicates grouped.
"""
