"""A check's result (Report) and its renderers: table, json, junit, markdown, html."""
