"""The Scrapy project: settings, the site registry, one spider per CMS family."""
