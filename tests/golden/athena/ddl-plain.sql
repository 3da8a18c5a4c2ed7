CREATE EXTERNAL TABLE IF NOT EXISTS `flowkeeper`.`flowkeeper_plain` (
  `version` int,
  `account_id` string,
  `interface_id` string,
  `srcaddr` string,
  `dstaddr` string,
  `srcport` int,
  `dstport` int,
  `protocol` int,
  `packets` bigint,
  `bytes` bigint,
  `start` bigint,
  `end` bigint,
  `action` string,
  `log_status` string
)
PARTITIONED BY (
  `aws_account` string,
  `aws_region` string,
  `day` string
)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY ' '
LOCATION 's3://fk-plain/AWSLogs/'
TBLPROPERTIES (
  'skip.header.line.count' = '1',
  'serialization.null.format' = '-',
  'projection.enabled' = 'true',
  'projection.aws_account.type' = 'enum',
  'projection.aws_account.values' = '111111111111,222222222222',
  'projection.aws_region.type' = 'enum',
  'projection.aws_region.values' = 'eu-west-1,us-east-1',
  'projection.day.type' = 'date',
  'projection.day.format' = 'yyyy/MM/dd',
  'projection.day.range' = 'NOW-400DAYS,NOW',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fk-plain/AWSLogs/${aws_account}/vpcflowlogs/${aws_region}/${day}'
)
