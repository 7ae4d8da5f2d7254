"""The knowledge base's pure core: turning uploaded files into text (`extract`) and text into index
terms, BM25 weights and highlighted snippets (`text`).

Nothing here touches the database or the web: the services store the terms these functions produce
and the adapters rank with them in SQL.
"""
