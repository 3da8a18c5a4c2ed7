{% include "_flows.sql" %}
SELECT
  coalesce(protocol, 0) AS protocol,
  svc_port AS port,
  count_if(action IS DISTINCT FROM 'REJECT') AS accepted_flows,
  coalesce(sum(CASE WHEN action IS DISTINCT FROM 'REJECT' THEN packets END), 0) AS accepted_packets,
  coalesce(sum(CASE WHEN action IS DISTINCT FROM 'REJECT' THEN bytes END), 0) AS accepted_bytes,
  count_if(action = 'REJECT') AS rejected_flows,
  coalesce(sum(CASE WHEN action = 'REJECT' THEN packets END), 0) AS rejected_packets,
  coalesce(sum(CASE WHEN action = 'REJECT' THEN bytes END), 0) AS rejected_bytes
FROM flows
WHERE src IS NOT NULL AND dst IS NOT NULL AND ported
GROUP BY coalesce(protocol, 0), svc_port
ORDER BY sum(bytes) DESC, coalesce(protocol, 0), svc_port
LIMIT {{ top_n }}
