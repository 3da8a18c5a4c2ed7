{% include "_flows.sql" %}
-- Accepted SSH and RDP connections opened from outside to internal hosts (the initiator rule
-- decides who opened them).
, sided AS (
  SELECT flows.*,
    CASE initiator WHEN 'src' THEN src WHEN 'dst' THEN dst END AS client,
    CASE initiator WHEN 'src' THEN dst WHEN 'dst' THEN src END AS server,
    CASE initiator WHEN 'src' THEN dport WHEN 'dst' THEN sport END AS server_port,
    CASE initiator WHEN 'src' THEN src_int WHEN 'dst' THEN dst_int END AS client_int,
    CASE initiator WHEN 'src' THEN dst_int WHEN 'dst' THEN src_int END AS server_int
  FROM flows
  WHERE initiator IS NOT NULL
)
SELECT client AS src, server AS dst, server_port AS dst_port, {{ service_name }} AS service,
  count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes,
  min(t) AS first_seen, max(t_end) AS last_seen
FROM sided
WHERE action = 'ACCEPT' AND ported AND NOT client_int AND server_int AND {{ services }}
GROUP BY client, server, server_port, protocol
ORDER BY first_seen, src, dst
