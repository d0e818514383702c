"""Print geometry: paper and card sizes, card fitting, imposition, card sheets, previews."""
