"""Who may do what to which evidence. Every view, listing, search and stream asks here."""
