"""Text before alignment: normalization (script, width, punctuation) and sentence segmentation."""
