{% include "_flows.sql" %}
SELECT src, dst, sum(bytes) AS bytes
FROM flows
WHERE src IS NOT NULL AND dst IS NOT NULL AND bytes > 0
GROUP BY src, dst
ORDER BY bytes DESC, src, dst
LIMIT {{ top_n }}
