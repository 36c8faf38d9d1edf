DROP TABLE premium_servers;
