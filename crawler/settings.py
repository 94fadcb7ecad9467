"""Scrapy settings for Heed's crawler (filled in by the crawl issue)."""

BOT_NAME = "heed"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Heed's RightsReservationMiddleware replaces Scrapy's RobotsTxtMiddleware, which fails open on
# 5xx and network errors (protocols.md §4.3). ROBOTSTXT_OBEY=False does NOT mean robots ignored.
ROBOTSTXT_OBEY = False
TELNETCONSOLE_ENABLED = False
