"""The local stack: ``target`` renders docker-compose.yaml from ``services`` (pinned ``images``, host names the
configs use resolved by ``addresses``, values escaped for compose's ``interpolation``), with the facts it repeats
taken from the other targets through ``stack``; ``strict`` checks the rendered file before it is written.
"""
