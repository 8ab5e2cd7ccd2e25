"""A nightly batch job: totals the day's orders by region."""
