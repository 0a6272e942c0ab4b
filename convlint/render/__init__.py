"""Architecture diagrams: what a diagram shows, and drawing it with Graphviz."""
