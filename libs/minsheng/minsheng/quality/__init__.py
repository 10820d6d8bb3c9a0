"""Data quality (issue 30): validation rules over indicators as per-plan data, checked on entry; outlier checks."""
