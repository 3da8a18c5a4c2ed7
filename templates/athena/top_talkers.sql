{% include "_flows.sql" %}
SELECT src, dst,
  count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes,
  min(t) AS first_seen, max(t_end) AS last_seen
FROM flows
WHERE src IS NOT NULL AND dst IS NOT NULL
GROUP BY src, dst
ORDER BY bytes DESC, src, dst
LIMIT {{ top_n }}
