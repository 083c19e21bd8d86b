"""Server-rendered dashboard pages (Arabic RTL and English), inline SVG charts, no scripts from elsewhere."""
