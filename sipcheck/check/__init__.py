"""``sipcheck check``: one health check over many accounts and trunks from one file.

``accounts`` loads the TOML accounts file into frozen typed values (``model``), with
passwords behind ``secret.Secret``; the renderers are ``sipcheck.render.nagios`` and
``sipcheck.render.junit``.
"""
