"""The typed result and what it is rendered as: JSON, PROV, markdown, HTML."""
