"""Classification and naming (Measures II and III of NMPA Announcement No. 63): the versioned
医疗器械分类目录 and its search, the explainable classification engine, the generic-name checker."""
