print('my code')
