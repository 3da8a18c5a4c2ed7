{% include "_flows.sql" %}
-- Everything to or from one address: run with the address as the execution parameter
-- (Athena ExecutionParameters, or replace the ? by a quoted address).
SELECT src, dst, sport AS src_port, dport AS dst_port, protocol, action,
  count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes,
  min(t) AS first_seen, max(t_end) AS last_seen
FROM flows
WHERE src = lower(?) OR dst = lower(?)
GROUP BY src, dst, sport, dport, protocol, action
ORDER BY bytes DESC, src, dst
