-- The daily budgets sum the costs of requests finished since 00:00 UTC.
CREATE INDEX requests_by_finish ON requests (finished_at) WHERE finished_at IS NOT NULL;
