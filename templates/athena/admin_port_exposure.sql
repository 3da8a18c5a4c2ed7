{% include "_flows.sql" %}
-- Accepted connections opened by an external client to an internal server on one of the
-- services; the initiator rule (tcp-flags, then REJECT on ingress, then ports) decides who
-- the client is, so a reply to our own connection is not an exposure.
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
SELECT
  t - t % {{ window }} AS window_start,
  CAST(NULL AS VARCHAR) AS src,
  server AS dst,
  server_port AS dst_port,
  protocol,
  {{ service_name }} AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  count(DISTINCT client) AS distinct_count
FROM sided
WHERE t IS NOT NULL AND action = 'ACCEPT' AND ported
  AND NOT client_int AND server_int
  AND {{ services }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, server, server_port, protocol
HAVING count(DISTINCT client) >= {{ min_sources }}
ORDER BY window_start, dst, dst_port
