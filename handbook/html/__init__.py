"""From the validated handbook to HTML: views, templates and diagrams."""
