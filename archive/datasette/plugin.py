"""Datasette plugin: the script converters as SQL functions, so a query in either script finds a report.

    select title from reports where to_simplified(title) like '%' || to_simplified(:q) || '%'

Each converts at most CONVERT_LIMIT characters of its argument (the rest is returned as
it is): a query over a hostile capture's text must end within Datasette's time limit.
"""
from datasette import hookimpl

from pipelines.script import to_simplified, to_traditional

CONVERT_LIMIT = 2_000_000  # characters; the longest report text seen is under 200,000


def _capped(convert):
    def sql_function(text):
        if not isinstance(text, str) or len(text) <= CONVERT_LIMIT:
            return convert(text) if isinstance(text, str) or text is None else text
        return convert(text[:CONVERT_LIMIT]) + text[CONVERT_LIMIT:]

    sql_function.__name__ = convert.__name__
    return sql_function


@hookimpl
def prepare_connection(conn):
    conn.create_function("to_simplified", 1, _capped(to_simplified), deterministic=True)
    conn.create_function("to_traditional", 1, _capped(to_traditional), deterministic=True)
