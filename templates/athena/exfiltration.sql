{% include "_flows.sql" %}
-- Bytes an internal source sent to one external destination per window, summed exactly (the
-- local detector estimates them with a Count-Min sketch, never below the truth). Records the
-- server sent in reply (initiator = destination) are serving, not exfiltration; records
-- whose initiator is unknown count{% if exclude_aws_services %}; records to AWS's storage
-- services (`pkt-dst-aws-service` {{ excluded_aws_services }}, or `traffic-path` 7: a gateway
-- endpoint, which serves only those) are left out, not other labels
-- (EC2 and AMAZON cover anyone's instances){% endif %}. Peers are the logged addresses: a NAT
-- gateway's outer leg counts under the gateway's address.
SELECT
  t - t % {{ window }} AS window_start,
  src,
  dst,
  CAST(NULL AS INTEGER) AS dst_port,
  CAST(NULL AS INTEGER) AS protocol,
  CAST(NULL AS VARCHAR) AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  array_join(array_distinct(array_agg(decided)), ',') AS decided_by,
  CAST(NULL AS BIGINT) AS distinct_count
FROM flows
WHERE src IS NOT NULL AND dst IS NOT NULL AND t IS NOT NULL
  AND action = 'ACCEPT' AND bytes > 0
  AND src_int AND NOT dst_int
  AND coalesce(initiator, 'src') <> 'dst'
  {%- if exclude_aws_services %}
  AND coalesce(pkt_dst_aws_service, '') NOT IN ({{ excluded_aws_services }})
  AND coalesce(traffic_path, 0) <> 7{% endif %}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, src, dst
HAVING sum(bytes) >= {{ min_bytes }}
ORDER BY window_start, src, dst
