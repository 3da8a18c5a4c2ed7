{% include "_flows.sql" %}
SELECT
  t - t % {{ bucket_seconds }} AS bucket_start,
  count_if(action = 'ACCEPT') AS accepted_flows,
  coalesce(sum(CASE WHEN action = 'ACCEPT' THEN bytes END), 0) AS accepted_bytes,
  count_if(action = 'REJECT') AS rejected_flows,
  coalesce(sum(CASE WHEN action = 'REJECT' THEN bytes END), 0) AS rejected_bytes
FROM flows
WHERE t IS NOT NULL AND action IN ('ACCEPT', 'REJECT')
GROUP BY t - t % {{ bucket_seconds }}
ORDER BY bucket_start
