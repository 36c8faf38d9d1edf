DROP TABLE signin_flows;
