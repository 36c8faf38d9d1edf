DROP TABLE verification_codes;
DROP TABLE roblox_link_history;
DROP TABLE roblox_links;
