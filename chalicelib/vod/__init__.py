"""On-demand video: videos, uploads, ingest, pipeline, captions and chapters, images, encoding profiles."""
