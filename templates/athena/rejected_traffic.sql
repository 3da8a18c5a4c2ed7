{% include "_flows.sql" %}
SELECT src, dst, dport AS dst_port, protocol,
  count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes,
  min(t) AS first_seen, max(t_end) AS last_seen
FROM flows
WHERE action = 'REJECT'
GROUP BY src, dst, dport, protocol
ORDER BY flows DESC, src, dst, dst_port
LIMIT {{ top_n }}
