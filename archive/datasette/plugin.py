"""Datasette plugin: the script converters as SQL functions, so a query in either script finds a report.

    select title from reports where to_simplified(title) like '%' || to_simplified(:q) || '%'
"""
from datasette import hookimpl

from pipelines.script import to_simplified, to_traditional


@hookimpl
def prepare_connection(conn):
    conn.create_function("to_simplified", 1, to_simplified, deterministic=True)
    conn.create_function("to_traditional", 1, to_traditional, deterministic=True)
