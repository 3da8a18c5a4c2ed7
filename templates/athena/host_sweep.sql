{% include "_flows.sql" %}
-- The client and server come from the initiator rule (tcp-flags, then REJECT on ingress,
-- then ports); records whose initiator is unknown are not counted.
, sided AS (
  SELECT flows.*,
    CASE initiator WHEN 'src' THEN src WHEN 'dst' THEN dst END AS client,
    CASE initiator WHEN 'src' THEN dst WHEN 'dst' THEN src END AS server,
    CASE initiator WHEN 'src' THEN dport WHEN 'dst' THEN sport END AS server_port,
    CASE initiator WHEN 'src' THEN src_int WHEN 'dst' THEN dst_int END AS client_int
  FROM flows
  WHERE initiator IS NOT NULL
)
SELECT
  t - t % {{ window }} AS window_start,
  client AS src,
  CAST(NULL AS VARCHAR) AS dst,
  server_port AS dst_port,
  protocol,
  CAST(NULL AS VARCHAR) AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  count(DISTINCT server) AS distinct_count
FROM sided
WHERE t IS NOT NULL AND ported
  {%- if probes_only %} AND probe{% endif %}
  AND {{ client_scope }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, client, server_port, protocol
HAVING count(DISTINCT server) >= {{ min_hosts }}
ORDER BY window_start, src, dst_port
