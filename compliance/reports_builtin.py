# placeholder until the reports helper lands
