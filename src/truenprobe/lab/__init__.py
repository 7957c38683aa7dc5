"""The lab: emulated IP sharers in network namespaces, so every scenario runs on one machine.

``topology`` describes the hosts and links (pure), ``sharer`` what each IP sharer is
configured with (pure: the plan's nft renderer and a multicast route), ``network``
builds and always removes them, ``cell`` runs the emulated camera and the prober in
them, ``matrix`` runs every scenario of the document.
"""
