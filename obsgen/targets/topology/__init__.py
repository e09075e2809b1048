"""topology.md: the service graph as Markdown and Mermaid, for humans reviewing the render."""
