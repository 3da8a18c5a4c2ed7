CREATE EXTERNAL TABLE IF NOT EXISTS `flowkeeper`.`flowkeeper_hive_hourly` (
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
  `year` string,
  `month` string,
  `day` string,
  `hour` string
)
ROW FORMAT DELIMITED
FIELDS TERMINATED BY ' '
LOCATION 's3://fk-hive-hourly/AWSLogs/'
TBLPROPERTIES (
  'skip.header.line.count' = '1',
  'serialization.null.format' = '-',
  'projection.enabled' = 'true',
  'projection.aws_account.type' = 'enum',
  'projection.aws_account.values' = '111111111111,222222222222',
  'projection.aws_region.type' = 'enum',
  'projection.aws_region.values' = 'eu-west-1,us-east-1',
  'projection.year.type' = 'integer',
  'projection.year.range' = '2015,2099',
  'projection.month.type' = 'integer',
  'projection.month.range' = '1,12',
  'projection.month.digits' = '2',
  'projection.day.type' = 'integer',
  'projection.day.range' = '1,31',
  'projection.day.digits' = '2',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://fk-hive-hourly/AWSLogs/aws-account-id=${aws_account}/aws-service=vpcflowlogs/aws-region=${aws_region}/year=${year}/month=${month}/day=${day}/hour=${hour}'
)
