def apply(host, scenario): raise NotImplementedError
